"""Actions and stories in the portal: the tenant's settings of the actions, the stories' moderation queue, and a
person's own actions and story on their page (``/me``)."""
