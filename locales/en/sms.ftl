# sms channel (en). Keys start with "sms-".
# The notice is put together from these parts, in this order. It must never name the
# letter's subject or content: an SMS shows on a locked screen. Keep it in the GSM alphabet
# and, for an ordinary authority name, in one SMS (160 characters).
sms-notice-important = Important letter from { $sender }.
sms-notice = New letter from { $sender }.
sms-read = Read it at borger.dk or in the Digital Post app.
sms-read-paper = The letter comes by post.
sms-deadline = Deadline: { $date }.
sms-deadline-extended = Your deadline is extended to { $date }.
sms-callback = Reply { $keyword } to get a call.
# The word a citizen replies to be called; replies in any language's word are understood.
sms-callback-keyword = CALL
sms-helper-notice = { $citizen } has an important letter from { $sender } that is not read yet. { $citizen } asked us to tell you. Please help them read it.
