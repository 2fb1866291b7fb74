// Compile-time read of host files: #include of /etc/shadow. Must be CE with no line of the host's
// /etc/shadow in the diagnostics. Leaves out running anything.
#include "/etc/shadow"
int main() {}
