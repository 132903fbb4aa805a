"""Part 1.1 (workflow/rules/autograd.smk): the Taylor series of sine, its autograd gradient and its figures."""
