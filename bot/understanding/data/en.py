"""English: cues, phrases and common words for the understanding model."""

from __future__ import annotations

from typing import Final

CUES: Final[dict[str, str]] = {
    "case_status": "status | case | my case:3 | check case:3 | case status:3 | receipt:2"
    " | receipt number:3 | application:2 | petition:2 | approved:2 | denied:2"
    " | update on:2 | where is my:2 | whats happening:1 | what happened:1 | check:1 | track:2"
    " | processing:1 | decision:2 | card mailed:3 | mailed:1 | rfe:2",
    "appointment": "appointment:3 | appointments:3 | appt:3 | book:2 | booking:2 | schedule:2"
    " | reschedule:3 | rescheduling:3 | fingerprint*:2 | interview:2 | visit office:3"
    " | field office:3 | make appointment:3 | change appointment:3 | cancel appointment:3"
    " | slot:2 | meeting:1 | new date:2",
    "password_reset": "password:3 | passcode:2 | forgot:2 | forget:2 | forgotten:2"
    " | reset:2 | locked:3 | locked out:3 | lockout:3 | cant sign in:3 | cant log in:3"
    " | cannot log in:3 | lost phone:3 | new phone:3 | lost device:3 | authenticator:3"
    " | backup code:3 | verification code:3 | didnt get code:3 | no code:3 | code not:3"
    " | create account:3 | new account:3 | sign up:3 | signup:3 | register:2 | registration:2"
    " | open account:3 | make account:3",
    "link_account": "sign in:3 | signin:3 | log in:3 | login:3 | log into:3 | logon:3"
    " | link:2 | link account:3 | connect:2 | connect account:3 | my account:2 | account:1"
    " | sign me in:3 | log me in:3",
    "language": "language:3 | languages:3 | lang:2 | speak:2 | talk in:2 | translate:2"
    " | in other language:3 | switch language:3",
    "agent": "agent:3 | live agent:3 | real person:3 | human:3 | talk to person:3"
    " | speak to person:3 | talk to someone:3 | speak to someone:3"
    " | speak with someone:3 | talk with someone:3 | representative:3"
    " | operator:3 | customer service:3 | contact center:3 | live chat:3"
    " | real human:3",
    "help": "help:2 | what can you do:3 | what can u do:3 | how does work:3 | how work:2"
    " | how to use:3 | options:2 | assist:2 | support:1 | confused:2 | dont understand:2"
    " | instructions:2 | guide:2",
    "cancel": "cancel:1 | stop:2 | quit:2 | exit:2 | nevermind:2 | never mind:2 | nvm:2"
    " | forget it:2 | leave:1 | abort:2 | no thanks:2 | dont want:1",
    "greeting": "hi:2 | hello:2 | hey:2 | hiya:2 | howdy:2 | good morning:3 | good afternoon:3"
    " | good evening:3 | morning:1 | greetings:2 | whats up:2 | sup:1 | thanks:2 | thank you:2"
    " | thx:2 | yo:1",
}

PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "case_status": (
        "what is the status of my case",
        "check the status of my application",
        "i want to know about my case",
        "has my case been approved",
        "is there any news on my petition",
        "look up my receipt number",
        "where is my work permit",
        "track my application please",
        "what happened with my green card case",
        "my case status",
        "did uscis decide my case",
        "see my case",
    ),
    "appointment": (
        "i want to book an appointment",
        "book a biometrics appointment",
        "reschedule my appointment",
        "change the date of my appointment",
        "i need to cancel my appointment",
        "schedule an interview",
        "when is my appointment",
        "make an appointment at the field office",
        "move my fingerprint appointment to another day",
        "i need an appointment",
        "see my appointments",
    ),
    "password_reset": (
        "i forgot my password",
        "reset my password",
        "i am locked out of my account",
        "my account got locked",
        "i lost my phone and cannot get the code",
        "i did not receive the code",
        "the verification code never came",
        "i want to create a new account",
        "how do i sign up",
        "change my password",
        "i cant sign in forgot password",
        "new phone authenticator not working",
    ),
    "link_account": (
        "sign in to my account",
        "i want to log in",
        "link my account",
        "connect my uscis online account",
        "let me sign in",
        "log in please",
        "access my account",
        "how do i sign in",
    ),
    "language": (
        "change the language",
        "do you speak spanish",
        "can you talk in vietnamese",
        "i want another language",
        "switch to english",
        "in spanish please",
        "i dont speak english",
    ),
    "agent": (
        "i want to talk to a real person",
        "can i speak to a human",
        "connect me with a live agent",
        "i need a representative",
        "let me talk to someone at uscis",
    ),
    "help": (
        "help me",
        "i need some help",
        "what can you do for me",
        "how does this work",
        "i dont understand",
        "what are my options",
        "how do i use this",
    ),
    "cancel": (
        "cancel",
        "stop this",
        "never mind",
        "forget about it",
        "i want to quit",
        "exit please",
        "no thanks stop",
    ),
    "greeting": (
        "hello",
        "hi there",
        "good morning to you",
        "good evening",
        "hey how are you",
        "thank you so much",
        "thanks a lot",
    ),
    "unknown": (
        "what time is it",
        "tell me a joke",
        "i like pizza",
        "who won the game last night",
        "my dog is sick",
        "how is the weather",
        "the sky is blue",
    ),
}

TOPICS: Final[dict[str, str]] = {
    "create_account": "create account | new account | open account | make account | sign up"
    " | signup | register | registration",
    "lost_device": "lost phone | new phone | broken phone | stolen phone | lost device"
    " | new device | lost authenticator | authenticator | phone stolen | changed phone",
    "forgot_password": "forgot password | forget password | forgotten password | reset password"
    " | lost password | dont remember password | cant remember password | change password"
    " | new password",
}

WORDS: Final = (
    "i me my mine you your we our it its is am are was were be been do does did dont didnt"
    " cant cannot can could would should will want wanna gonna need please pls plz thanks"
    " thank what whats where when why how who which the a an to of for in on at with from"
    " and or but not no yes yeah yep this that there here get got have has had just about"
    " know see look like make let tell give any some u ur im ive id"
)
