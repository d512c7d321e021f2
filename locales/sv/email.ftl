# email channel (sv). Keys start with "email-".
email-subject = Du har fått ett brev från { $sender }
email-intro = Du har fått ett nytt brev från { $sender }.
email-important = Brevet är viktigt. Läs det så snart du kan.
email-deadline = Du ska svara senast { $date }.
email-deadline-extended = Du har fått mer tid. Du ska svara senast { $date }.
email-how-to-read = Du kan läsa brevet i Digital Post: { $url }. Brevet står inte i det här mejlet.
email-how-to-read-link = Läs brevet här: { $url }. Innan brevet visas skickar vi en kod till din telefon. Brevet står inte i det här mejlet.
email-how-to-read-paper = Brevet kommer med posten. Brevet står inte i det här mejlet.
email-contact = Har du frågor, eller behöver du hjälp att läsa brevet? Kontakta { $sender }: { $contact }.
email-footer = Det här mejlet skickades automatiskt. Du kan inte svara på det.
email-helper-subject = { $citizen } har ett oläst brev från { $sender }
email-helper-body = { $citizen } har fått ett viktigt brev från { $sender } och har inte läst det än. { $citizen } har bett oss säga till dig. Hjälp gärna till att läsa det. Brevet står inte i det här mejlet.
