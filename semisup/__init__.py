"""SemiSupCon helpers."""
