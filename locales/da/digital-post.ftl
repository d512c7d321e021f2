# digital-post channel (da). Keys start with "digital-post-".
