"""Business operations as plain functions: the CLI and the web call these, never SQL."""
