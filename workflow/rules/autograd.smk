# The autograd stage's rules (being written).
