"""Pull requests, CI gates and archives: what happens to a report after it is written."""
