"""Generation: a whole song through the trained generator, in numpy."""
