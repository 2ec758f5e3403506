"""The catalog application: get → change → save."""
