# sms channel (sv). Keys start with "sms-".
# The notice is put together from these parts, in this order. It must never name the
# letter's subject or content: an SMS shows on a locked screen. Keep it in the GSM alphabet
# (å, ä, ö, é, ü are in it; – and “ ” are not) and, for an ordinary authority name, in one SMS
# (160 characters).
sms-notice-important = Viktigt brev från { $sender }.
sms-notice = Nytt brev från { $sender }.
sms-read = Läs det på borger.dk eller i appen Digital Post.
sms-read-paper = Brevet kommer med posten.
sms-deadline = Frist: { $date }.
sms-deadline-extended = Din frist är förlängd till { $date }.
sms-callback = Svara { $keyword } så ringer vi dig.
# The word a citizen replies to be called; replies in any language's word are understood.
sms-callback-keyword = RING
sms-helper-notice = { $citizen } har fått ett viktigt brev från { $sender } och har inte läst det än. { $citizen } har bett oss säga till dig. Hjälp gärna till att läsa det.
