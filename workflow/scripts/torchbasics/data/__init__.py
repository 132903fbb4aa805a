"""The data stage (workflow/rules/data.smk): CIFAR-10 in the course's npz format and the parrot images."""
