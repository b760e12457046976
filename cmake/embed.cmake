# Turns a text file into a C++ header holding it as a raw string literal.
file(READ ${IN} CONTENT)
set(DELIM "dsm_embed")
file(WRITE ${OUT} "// Generated from ${IN}. Do not edit.\n#pragma once\nnamespace dsm::generated {\ninline constexpr const char* ${VAR} = R\"${DELIM}(${CONTENT})${DELIM}\";\n}\n")
