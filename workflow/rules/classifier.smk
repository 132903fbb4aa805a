# The classifier stage's rules (being written).
