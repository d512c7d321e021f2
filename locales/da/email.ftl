# email channel (da). Keys start with "email-".
email-subject = Du har fået et brev fra { $sender }
email-intro = Du har fået et nyt brev fra { $sender }.
email-important = Brevet er vigtigt. Læs det så hurtigt som muligt.
email-deadline = Du skal svare senest { $date }.
email-deadline-extended = Din frist er forlænget. Du skal svare senest { $date }.
email-how-to-read = Du kan læse brevet i Digital Post: { $url }. Brevet står ikke i denne e-mail.
email-how-to-read-link = Læs brevet her: { $url }. Før brevet vises, sender vi en kode til din telefon. Brevet står ikke i denne e-mail.
email-how-to-read-paper = Brevet kommer med posten. Brevet står ikke i denne e-mail.
email-contact = Har du spørgsmål, eller har du brug for hjælp til at læse brevet, så kontakt { $sender }: { $contact }.
email-footer = Denne e-mail er sendt automatisk. Du kan ikke svare på den.
email-helper-subject = { $citizen } har et ulæst brev fra { $sender }
email-helper-body = { $citizen } har fået et vigtigt brev fra { $sender } og har ikke læst det endnu. { $citizen } har bedt om, at du får besked. Hjælp gerne med at læse det. Brevet står ikke i denne e-mail.
