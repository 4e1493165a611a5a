"""The in-portal inbox and e-mail notifications."""
