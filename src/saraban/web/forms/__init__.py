"""Django forms of the workflow pages: bilingual labels and errors, Thai (พ.ศ.) dates."""
