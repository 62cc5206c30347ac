"""The organisation's units (departments, offices, campuses, faculties): the tree, headcounts, CSV import."""
