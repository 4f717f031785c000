"""French: cues, phrases and common words for the understanding model."""

from __future__ import annotations

from typing import Final

CUES: Final[dict[str, str]] = {
    "case_status": "dossier:2 | mon dossier:3 | statut:2 | etat:2 | demande:2 | ma demande:3"
    " | ou en est:3 | suivi:2 | recu:2 | numero de recu:3 | accuse de reception:3"
    " | approuve:2 | approuvee:2 | accepte:2 | acceptee:2 | refuse:2 | verifier:1"
    " | consulter:2 | carte verte:3 | permis de travail:2 | avancement:2 | voir dossier:3",
    "appointment": "rendez vous:3 | rendezvous:3 | rdv:3 | entretien:2 | empreintes:3"
    " | empreinte:3 | biometrique:3 | biometrie:3 | prendre rendez vous:3 | reporter:2"
    " | reprogrammer:3 | annuler rendez vous:3 | annuler rdv:3 | fixer:1 | creneau:2"
    " | bureau:1 | convocation:2",
    "password_reset": "mot de passe:3 | mdp:3 | mot de pass:3 | oublie:2 | oublier:2"
    " | reinitialiser:3 | reinitialisation:3 | bloque:3 | bloquee:3 | verrouille:3 | code:1"
    " | recois pas code:3 | pas recu code:3 | perdu telephone:3 | nouveau telephone:3"
    " | authentificateur:3 | code de secours:3 | creer compte:3 | creer un compte:3"
    " | nouveau compte:3 | inscrire:3 | inscription:3 | ouvrir compte:3",
    "link_account": "connecter:2 | me connecter:3 | se connecter:3 | connexion:3"
    " | lier:2 | lier compte:3 | associer:2 | mon compte:2 | compte:1 | identifier:2"
    " | acceder compte:3",
    "language": "langue:3 | langues:3 | parler:2 | parlez:2 | parle:1 | traduire:2"
    " | changer langue:3 | autre langue:3",
    "agent": "agent:3 | conseiller:3 | conseillere:3 | vraie personne:3"
    " | personne reelle:3 | humain:3 | parler a quelqu un:3"
    " | parler personne:3 | operateur:3 | service client:3 | representant:3",
    "help": "aide:2 | aider:2 | aidez:2 | aide moi:3 | faire quoi:3 | que peux tu faire:3"
    " | comment ca marche:3 | comment utiliser:3 | comprends pas:2 | options:2 | secours:1",
    "cancel": "annuler:1 | annule:1 | arreter:2 | arrete:2 | stop:2 | quitter:2 | sortir:2"
    " | non merci:3 | laisse tomber:3 | laissez tomber:3 | tant pis:2 | oublie ca:2"
    " | plus besoin:2",
    "greeting": "bonjour:2 | salut:2 | bonsoir:2 | coucou:2 | allo:2 | bonne journee:2"
    " | merci:2 | merci beaucoup:3 | cc:1 | slt:2 | bjr:2",
}

PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "case_status": (
        "je voudrais connaitre le statut de mon dossier",
        "ou en est mon dossier",
        "est ce que ma demande est approuvee",
        "j'ai un numero de recu",
        "verifier l'etat de ma demande",
        "suivi de mon dossier svp",
        "ma carte verte c'est pour quand",
        "consulter mon dossier uscis",
    ),
    "appointment": (
        "je voudrais prendre un rendez-vous",
        "rendez vous pour la biometrie",
        "changer la date de mon rendez vous",
        "annuler mon rendez-vous",
        "reporter mon entretien",
        "c'est quand mon rdv",
        "prendre rdv pour les empreintes digitales",
        "j'ai besoin d'un rendez vous au bureau",
    ),
    "password_reset": (
        "j'ai oublié le mot de passe de mon compte",
        "reinitialiser mon mot de passe",
        "mon compte est verrouille",
        "j'ai perdu mon telephone et je n'ai pas le code",
        "je n'ai pas recu le code",
        "je veux creer un nouveau compte",
        "comment m'inscrire",
        "changer mon mot de passe",
    ),
    "link_account": (
        "je veux me connecter",
        "connexion a mon compte",
        "lier mon compte uscis",
        "associer mon compte",
        "comment me connecter",
        "acceder a mon compte",
    ),
    "language": (
        "changer de langue",
        "est ce que vous parlez francais",
        "en anglais s'il vous plait",
        "une autre langue",
        "je ne parle pas anglais",
    ),
    "agent": (
        "je veux parler à une vraie personne",
        "passez moi un conseiller",
        "je voudrais un agent",
        "mettez moi en contact avec un humain",
    ),
    "help": (
        "aide",
        "j'ai besoin d'aide",
        "que pouvez vous faire",
        "comment ca marche",
        "je ne comprends pas",
    ),
    "cancel": (
        "annuler",
        "laisse tomber ca",
        "arreter",
        "je veux quitter",
        "plus besoin merci",
    ),
    "greeting": (
        "bonjour a tous",
        "salut ca va",
        "bonsoir madame",
        "coucou",
        "merci beaucoup",
    ),
    "unknown": (
        "quelle heure est il",
        "raconte moi une blague",
        "j'aime les croissants",
        "il va pleuvoir demain",
        "mon chien est malade",
    ),
}

TOPICS: Final[dict[str, str]] = {
    "create_account": "creer compte | nouveau compte | ouvrir compte | inscrire | inscription"
    " | creer un compte",
    "lost_device": "perdu telephone | nouveau telephone | telephone vole | vole telephone"
    " | telephone casse | perdu portable | nouveau portable | authentificateur"
    " | change de telephone",
    "forgot_password": "oublie mot de passe | oublie mdp | oublie mot de pass"
    " | reinitialiser mot de passe | changer mot de passe | nouveau mot de passe"
    " | oublie mon mot | mot de passe oublie",
}

WORDS: Final = (
    "je j me m moi tu te toi vous nous il elle on mon ma mes ton ta tes son sa ses notre"
    " votre le la les l un une des du de d au aux et ou mais est suis es sont ai as a avez"
    " avons ce c cette ca ça qui que qu quoi quand comment pourquoi pour par avec sans dans"
    " sur pas ne n plus tres bien oui non merci svp stp veux voudrais peux besoin faire"
    " voir est-ce quel quelle"
)
