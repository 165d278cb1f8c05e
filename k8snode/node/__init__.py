"""The host itself: its kernel and module index, and its primary address."""
