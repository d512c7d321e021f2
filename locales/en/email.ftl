# email channel (en). Keys start with "email-".
email-subject = You have a letter from { $sender }
email-intro = You have a new letter from { $sender }.
email-important = The letter is important. Please read it as soon as you can.
email-deadline = You must reply by { $date } at the latest.
email-deadline-extended = Your deadline has been extended. You must reply by { $date } at the latest.
email-how-to-read = You can read the letter in Digital Post: { $url }. The letter is not in this e-mail.
email-how-to-read-link = Read the letter here: { $url }. Before it shows the letter, we send a code to your phone. The letter is not in this e-mail.
email-how-to-read-paper = The letter comes by post. The letter is not in this e-mail.
email-contact = If you have questions, or need help reading the letter, contact { $sender }: { $contact }.
email-footer = This e-mail was sent automatically. You cannot reply to it.
email-helper-subject = { $citizen } has an unread letter from { $sender }
email-helper-body = { $citizen } has an important letter from { $sender } that is not read yet. { $citizen } asked us to tell you. Please help them read it. The letter is not in this e-mail.
