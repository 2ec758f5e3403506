"""The booking application: commands (get → change → save), the policy for the participants'
answers, the deadlines job and the queries over the read model."""
