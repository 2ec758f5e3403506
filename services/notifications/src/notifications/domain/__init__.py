"""The notifications domain: notices put in people's in-app inboxes."""
