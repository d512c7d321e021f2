# email channel (ar). Keys start with "email-".
email-subject = وصلتك رسالة من { $sender }
email-intro = وصلتك رسالة جديدة من { $sender }.
email-important = الرسالة مهمة. اقرأها في أسرع وقت ممكن.
email-deadline = يجب أن تردّ في موعد أقصاه { $date }.
email-deadline-extended = تم تمديد موعدك النهائي. يجب أن تردّ في موعد أقصاه { $date }.
email-how-to-read = يمكنك قراءة الرسالة في Digital Post: { $url }. الرسالة ليست في هذا البريد الإلكتروني.
email-how-to-read-link = اقرأ الرسالة هنا: { $url }. قبل أن تظهر الرسالة، نرسل رمزًا إلى هاتفك. الرسالة ليست في هذا البريد الإلكتروني.
email-how-to-read-paper = تصلك الرسالة على الورق بالبريد. الرسالة ليست في هذا البريد الإلكتروني.
email-contact = إذا كانت لديك أسئلة، أو كنت تحتاج إلى مساعدة في قراءة الرسالة، فتواصل مع { $sender }: { $contact }.
email-footer = أُرسل هذا البريد الإلكتروني تلقائيًا. لا يمكنك الرد عليه.
email-helper-subject = لدى { $citizen } رسالة غير مقروءة من { $sender }
email-helper-body = لدى { $citizen } رسالة مهمة من { $sender } لم تُقرأ بعد. نخبرك بهذا بناءً على طلب { $citizen }. نرجو أن تساعد في قراءتها. الرسالة ليست في هذا البريد الإلكتروني.
