# email channel (en). Keys start with "email-".
