# The denoise stage's rules (being written).
