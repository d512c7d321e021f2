# print channel (en). Keys start with "print-".
