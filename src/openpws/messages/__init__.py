"""Messages: PWS request values in, response values out (wire names at this edge, snake_case
inside). Each operation has one handler here, named after it; ``operations.OPERATIONS`` lists them."""
