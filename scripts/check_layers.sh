#!/bin/sh
# The part of the layering that the build cannot enforce (cmake/dsmLayer.cmake
# gives each layer its own include root, so an include of a layer a target
# does not link fails to compile): a relative include climbing out of its
# folder would get around that, and the installed headers must stay the API.
# Run by ctest (check_layers); exits 1 naming each offence.
set -eu
cd "$(dirname "$0")/.."
status=0
if grep -rnE '#include\s+"(\.\./|/)' src include; then
  echo "check_layers: include layers by their name (\"repo/x.hpp\"), never by a relative or absolute path" >&2
  status=1
fi
api=$(ls include/dsm | tr '\n' ' ')
if [ "$api" != "api.hpp error.hpp version.hpp " ]; then
  echo "check_layers: include/dsm holds the installed API only (api.hpp error.hpp version.hpp), not: $api" >&2
  status=1
fi
if grep -rln 'CLI/' src --include='*.cpp' --include='*.hpp' | grep -v -e '^src/commands/' -e '^src/main.cpp$'; then
  echo "check_layers: only src/commands and src/main.cpp use CLI11" >&2
  status=1
fi
exit $status
