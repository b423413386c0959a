"""Pure filters of the defects: which lines a change touches, which defects sit on them.

No git, no HTTP: the text of a diff in, sets of lines out (``gate.gitdiff`` runs git).
"""
