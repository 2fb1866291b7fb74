# A Python syntax error on line 3 (an unclosed call): CE, with SyntaxError in the diagnostics.
# Nothing else is wrong with the program.
print("unclosed"
