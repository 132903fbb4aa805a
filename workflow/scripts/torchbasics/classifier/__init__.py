"""Part 2 (workflow/rules/classifier.smk): the CIFAR-10 networks, their training, evaluation, comparison and
replicates, and their figures."""
