"""One gateway family: its recipe, its mistake search and its sandbox emulator."""
