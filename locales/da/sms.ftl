# sms channel (da). Keys start with "sms-".
