"""Text messages (SMS): segmenting, quiet hours and the daily cap, opted-out numbers."""
