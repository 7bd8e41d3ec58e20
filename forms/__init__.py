"""What a record sheet asks, defined once for the filler and the reader."""
