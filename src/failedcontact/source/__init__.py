"""Reading source files: YAML with the location of every node, layout, finding a pack by id."""
