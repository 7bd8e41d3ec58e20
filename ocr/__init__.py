"""Reading returned sheets: pure functions from images and geometry to results."""
