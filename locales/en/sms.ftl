# sms channel (en). Keys start with "sms-".
