# print channel (da). Keys start with "print-".
