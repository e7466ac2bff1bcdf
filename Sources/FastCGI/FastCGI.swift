// The FastCGI 1.0 wire protocol.
