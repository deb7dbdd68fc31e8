"""Pure game rules: phases and their transitions, winners and standings. No I/O here."""
