# sms channel (da). Keys start with "sms-".
# The notice is put together from these parts, in this order. It must never name the
# letter's subject or content: an SMS shows on a locked screen. Keep it in the GSM alphabet
# (æ, ø, å are in it; – and “ ” are not) and, for an ordinary authority name, in one SMS
# (160 characters).
sms-notice-important = Vigtigt brev fra { $sender }.
sms-notice = Nyt brev fra { $sender }.
sms-read = Læs det på borger.dk eller i appen Digital Post.
sms-read-paper = Brevet kommer med posten.
sms-deadline = Frist: { $date }.
sms-deadline-extended = Din frist er forlænget til { $date }.
sms-callback = Svar { $keyword }, så ringer vi.
# The word a citizen replies to be called; replies in any language's word are understood.
sms-callback-keyword = RING
sms-helper-notice = { $citizen } har fået et vigtigt brev fra { $sender } og har ikke læst det endnu. { $citizen } har bedt om, at du får besked. Hjælp gerne med at læse det.
