"""CLIPSep's building blocks: the query-conditioned mask network, mix-and-separate training,
inference on recordings of any length, real sound sources, evaluation, query encoders."""
