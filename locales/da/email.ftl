# email channel (da). Keys start with "email-".
