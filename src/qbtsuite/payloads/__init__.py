"""What the suite sends: the cheapest valid requests, invalid bodies, audio fixtures."""
