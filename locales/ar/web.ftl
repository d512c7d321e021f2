# Shared by every web page: the frame, the language switch and error pages.
web-site-citizen = Budbringer – بريدك من الجهات العامة
web-site-staff = Budbringer – موظف الحالات
web-skip-link = انتقل إلى المحتوى
web-nav-label = القائمة الرئيسية
web-language = اللغة
web-logout = تسجيل الخروج
web-footer = هل تحتاج إلى مساعدة؟ اتصل ببلديتك أو تعال شخصيًا.
web-error-title = حدث خطأ ما
web-error-back = اذهب إلى الصفحة الرئيسية
web-error-login = يجب عليك تسجيل الدخول.
web-error-csrf = هذه الصفحة قديمة جدًا. ارجع، وأعد تحميل الصفحة، وحاول مرة أخرى.
web-error-not-found = لا نستطيع العثور على هذه الصفحة.
web-error-gone = حُذف هذا المحتوى ولم يعد متاحًا.
web-error-forbidden = ليس لديك صلاحية الوصول إلى هذا.
web-error-rate-limited = لقد حاولت مرات كثيرة. انتظر قليلًا وحاول مرة أخرى.
web-error-login-failed = لم نتمكن من تسجيل دخولك.
web-error-unavailable = النظام مشغول الآن. حاول مرة أخرى بعد قليل.
web-error-internal = حدث خطأ من جهتنا. حاول مرة أخرى لاحقًا.

# OpenID Connect login (MitID through a broker, or the authority's own login)
web-oidc-not-configured = تسجيل الدخول عبر MitID أو عبر حساب جهة عملك غير مُعدّ هنا.
web-oidc-provider-unavailable = لا نستطيع الوصول إلى خدمة تسجيل الدخول الآن. حاول مرة أخرى بعد قليل.
web-oidc-cancelled = لقد ألغيت تسجيل الدخول. يمكنك المحاولة مرة أخرى عندما تكون مستعدًا.
web-oidc-provider-error = لم تتمكن خدمة تسجيل الدخول من إدخالك. حاول مرة أخرى.
web-oidc-expired = استغرق تسجيل دخولك وقتًا طويلًا أو بدأ في نافذة أخرى. حاول مرة أخرى.
web-oidc-invalid = لم نتمكن من تأكيد تسجيل دخولك. حاول مرة أخرى.
web-oidc-no-identity = لم ترسل خدمة تسجيل الدخول المعلومات التي نحتاجها للعثور عليك.
