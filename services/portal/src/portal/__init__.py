"""The portal: the web front door of a territory. It owns no domain data; it renders the
services' HTTP APIs for people, with the logged-in user's token."""
