// Compile-time bomb: the preprocessor reads an endless device. Must end as CE within the compile
// limits, with no compiler process left behind. Leaves out running anything.
#include "/dev/random"
int main() {}
