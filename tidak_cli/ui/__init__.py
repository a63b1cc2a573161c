"""What paytoken shows: plain text for scripts (no Rich), pretty views with Rich, and the one error boundary."""
