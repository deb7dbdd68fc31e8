"""Redis adapter: key layout, Lua scripts (the source of truth for answers) and reads."""
