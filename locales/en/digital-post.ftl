# digital-post channel (en). Keys start with "digital-post-".
