<?php
// One integrator's session against openpws through PHP's SoapClient (ext-soap), which much PSA
// integration code uses. Every request is built by SoapClient from the served WSDL (member names,
// namespaces and order); nothing here writes XML.
//
// Usage: php scenario.php CONFIG, where CONFIG is a JSON object: wsdl (the ?wsdl address), account,
// first and second ({login, password}: two users with every permission), monday (a Monday,
// YYYY-MM-DD, of a week the account may book). Prints one JSON object (see report() below) and
// exits 0 unless the scenario could not run at all.
//
// Every operation of the contract is called at least once: adding an operation to the contract is
// one more $call() line below (and one more line in tests/stacks/test_stacks.py). The steps are
// those of scenario.js, in the same order.
declare(strict_types=1);

final class PwsFaultRaised extends Exception
{
    public function __construct(string $operation, public readonly object $detail)
    {
        parent::__construct("$operation: PwsFault");
    }
}

final class Scenario
{
    /** @var list<array{operation: string, user: string, outcome: string}> */
    public array $calls = [];
    /** @var list<string> */
    public array $failures = [];
    /** @var list<array{kind: string, code: string, uid: string}> */
    public array $entities = [];
    /** @var list<string> */
    public array $operations = [];
    private SoapClient $client;

    public function __construct(private readonly array $config)
    {
    }

    public function check(bool $condition, string $what): void
    {
        if (!$condition) {
            $this->failures[] = $what;
        }
    }

    /**
     * The items of an ArrayOfX member. SOAP_SINGLE_ELEMENT_ARRAYS makes even one item a list in
     * answers; a fault's detail is not read by the WSDL's types, so there one item is an object.
     */
    public static function items(?object $wrapper, string $name): array
    {
        $found = $wrapper === null ? null : ($wrapper->$name ?? null);
        return $found === null ? [] : (is_array($found) ? $found : [$found]);
    }

    // Uids are Int64 (openpws's are 2^60 + n): SoapClient reads xs:long into PHP's 64-bit int,
    // exactly; a float here would mean it had not.
    public function uid(mixed $value, string $what): mixed
    {
        $this->check(is_int($value) && $value > 2 ** 53, "$what: " . var_export($value, true)
            . ' is not an exact Int64 Uid above 2^53');
        return $value;
    }

    public function made(string $kind, string $code, mixed $uid): object
    {
        $this->entities[] = ['kind' => $kind, 'code' => $code, 'uid' => (string) $this->uid($uid, "$kind $code Uid")];
        return (object) ['code' => $code, 'uid' => $uid];
    }

    private static function numbers(?object $holder): array
    {
        $messages = $holder === null ? null : ($holder->Messages ?? null);
        return array_map(fn (object $m): int => (int) $m->ErrorNumber, self::items($messages, 'PwsMessage'));
    }

    /**
     * One call: the outcome is recorded as "Status[ numbers]", "PwsFault numbers" or "SOAP fault CODE".
     * Answers with a Status come back; a PwsFault is thrown as PwsFaultRaised with the detail
     * SoapClient parsed.
     */
    public function call(string $operation, object $user, array $members = []): object
    {
        $request = ['serviceRequest' => ['SessionTicket' => $user->ticket] + $members];
        try {
            $answer = $this->client->__soapCall($operation, [$request])->{"{$operation}Result"};
        } catch (SoapFault $fault) {
            $detail = isset($fault->detail) && is_object($fault->detail) ? ($fault->detail->PwsFault ?? null) : null;
            if ($detail === null) {
                $this->calls[] = ['operation' => $operation, 'user' => $user->name, 'outcome' => "SOAP fault {$fault->faultcode}"];
                throw $fault;
            }
            $outcome = implode(' ', ['PwsFault', ...self::numbers($detail)]);
            $this->calls[] = ['operation' => $operation, 'user' => $user->name, 'outcome' => $outcome];
            throw new PwsFaultRaised($operation, $detail);
        }
        $outcome = implode(' ', [$answer->Status, ...self::numbers($answer)]);
        $this->calls[] = ['operation' => $operation, 'user' => $user->name, 'outcome' => $outcome];
        return $answer;
    }

    public function expectFault(string $operation, object $user, array $members): ?object
    {
        try {
            $this->call($operation, $user, $members);
        } catch (PwsFaultRaised $raised) {
            return $raised->detail;
        }
        return null;
    }

    public function run(): void
    {
        $config = $this->config;
        $this->client = new SoapClient($config['wsdl'], [
            'cache_wsdl' => WSDL_CACHE_NONE, 'exceptions' => true, 'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
        ]);
        // "PwsXResponse PwsX(PwsX $parameters)": the operation is the function's name.
        foreach ($this->client->__getFunctions() as $signature) {
            preg_match('/^\S+ (\w+)\(/', $signature, $match);
            $this->operations[] = $match[1];
        }
        sort($this->operations);
        $call = $this->call(...);
        $items = self::items(...);
        $check = $this->check(...);
        $first = (object) ['name' => 'first', 'ticket' => null];
        $second = (object) ['name' => 'second', 'ticket' => null];
        $tag = 'php-' . getmypid();

        // Log in as two users of one account.
        foreach ([[$first, $config['first']], [$second, $config['second']]] as [$user, $who]) {
            $login = $call('PwsAuthenticate', (object) ['name' => $user->name, 'ticket' => null],
                ['AccountCode' => $config['account'], 'UserName' => $who['login'], 'Password' => $who['password']]);
            $user->ticket = $login->SessionTicket;
            $user->uid = $this->uid($login->UserIdentity->UserUid, "{$user->name} user's UserUid");
        }

        // A client tree, read back by Uid and by search.
        $parentName = "Stack Holdings $tag";
        $saved = $call('PwsSaveClient', $first, ['Client' => ['ClientName' => $parentName]]);
        $parent = $this->made('client', $saved->ClientIdentity->ClientNumber, $saved->ClientIdentity->ClientUid);
        $saved = $call('PwsSaveClient', $first,
            ['Client' => ['ClientName' => "Stack Unit $tag", 'ParentClientIdentity' => ['ClientUid' => $parent->uid]]]);
        $child = $this->made('client', $saved->ClientIdentity->ClientNumber, $saved->ClientIdentity->ClientUid);
        $clients = $call('PwsGetClient', $first, ['ClientIdentities' => ['PwsClientRef' => [['ClientUid' => $child->uid]]]]);
        $childDetail = $items($clients->Clients, 'PwsClientElement')[0]->ClientDetail ?? null;
        $check($childDetail !== null && $childDetail->ClientNumber === $child->code && $childDetail->ClientUid === $child->uid,
            'PwsGetClient by Uid answers that client');
        $check($childDetail !== null && $childDetail->ParentClientIdentity->ClientUid === $parent->uid,
            'PwsGetClient: the parent Uid is the one saved');
        $listed = $call('PwsGetClientList', $first, ['QueryString' => $parentName]);
        $check(in_array($parent->uid, array_map(fn ($c) => $c->ClientUid, $items($listed->Clients, 'PwsClientSummary')), true),
            'PwsGetClientList finds the parent with its exact Uid');

        // An engagement, a project and a role, each made by Uid reference to its parent.
        $engagementName = "Stack rollout $tag";
        $saved = $call('PwsSaveEngagement', $first,
            ['Engagement' => ['ClientIdentity' => ['ClientUid' => $child->uid], 'EngagementName' => $engagementName]]);
        $engagement = $this->made('engagement', $saved->EngagementIdentity->EngagementCode,
            $saved->EngagementIdentity->EngagementUid);
        $engagements = $call('PwsGetEngagement', $first,
            ['EngagementIdentities' => ['PwsEngagementRef' => [['EngagementUid' => $engagement->uid]]]]);
        $element = $items($engagements->Engagements, 'PwsEngagementElement')[0] ?? null;
        $check($element !== null && $element->EngagementDetail->EngagementCode === $engagement->code,
            'PwsGetEngagement by Uid answers that engagement');
        $check($element !== null && $element->EngagementDetail->ClientIdentity->ClientUid === $child->uid,
            'PwsGetEngagement: its client Uid is exact');
        $found = $call('PwsGetEngagementList', $first, ['QueryString' => $engagementName]);
        $check(in_array($engagement->uid, array_map(fn ($e) => $e->EngagementUid,
            $items($found->Engagements, 'PwsEngagementSummary')), true),
            'PwsGetEngagementList finds the engagement with its exact Uid');
        $saved = $call('PwsSaveProject', $first, ['Mode' => 'R', 'Project' => [
            'EngagementIdentity' => ['EngagementUid' => $engagement->uid], 'ProjectName' => "Stack phase 1 $tag",
            'OpenDate' => "{$config['monday']}T00:00:00Z"]]);
        $project = $this->made('project', $saved->ProjectIdentity->ProjectCode, $saved->ProjectIdentity->ProjectUid);
        $projects = $call('PwsGetProjectList', $first, ['QueryString' => "Stack phase 1 $tag"]);
        $check(in_array($project->uid, array_map(fn ($p) => $p->ProjectUid, $items($projects->Projects, 'PwsProjectSummary')), true),
            'PwsGetProjectList finds the project with its exact Uid');
        $saved = $call('PwsSaveProjectRole', $first, ['Mode' => 'R', 'ProjectIdentity' => ['ProjectUid' => $project->uid],
            'ProjectRole' => ['ExternalSystemIdentifier' => "R-$tag", 'RoleName' => 'Architect']]);
        $role = $this->made('role', "R-$tag", $saved->ProjectRoleIdentity->ProjectRoleUid);

        // Hours on the role, read back with the project and with its roles.
        $monday = new DateTimeImmutable("{$config['monday']}T00:00:00Z");
        $buckets = array_map(fn (int $w) => ['BucketStartDate' => $monday->modify("+$w week")->format('Y-m-d\TH:i:s\Z'),
            'SchedulingMode' => 'W', 'WeeklyMinutes' => 600], [0, 1]);
        $call('PwsRequestOrBookRoleHours', $first, ['Mode' => 'R', 'ProjectRoles' => ['PwsProjectRoleHours' => [[
            'ProjectRoleIdentity' => ['ProjectRoleUid' => $role->uid], 'HoursBuckets' => ['PwsProjectRoleHoursBucket' => $buckets]]]]]);
        $roles = $call('PwsGetProjectRoles', $first,
            ['Mode' => 'R', 'ProjectIdentities' => ['PwsProjectRef' => [['ProjectUid' => $project->uid]]]]);
        $projectRoles = $items($roles->ProjectProjectRoles, 'PwsProjectProjectRoles')[0] ?? null;
        $readRole = $items($projectRoles?->ProjectRoles, 'PwsProjectRoleElement')[0] ?? null;
        $check($readRole !== null && $readRole->ProjectRoleDetail->ProjectRoleUid === $role->uid,
            'PwsGetProjectRoles: the role Uid is exact');
        $check($readRole !== null && array_map(fn ($b) => $b->WeeklyMinutes,
            $items($readRole->HoursBuckets, 'PwsProjectRoleHoursBucket')) === [600, 600],
            'PwsGetProjectRoles: the requested hours are back');
        $read = $call('PwsGetProject', $first,
            ['Mode' => 'A', 'ProjectIdentities' => ['PwsProjectRef' => [['ProjectUid' => $project->uid]]]]);
        $readProject = $items($read->Projects, 'PwsProjectElement')[0] ?? null;
        $check($readProject !== null && $readProject->ProjectDetail->ProjectUid === $project->uid
            && $readProject->ProjectDetail->EngagementIdentity->EngagementUid === $engagement->uid,
            'PwsGetProject: the project and engagement Uids are exact');

        // A business error is an answer, not an exception; the role is deleted once its hours may go.
        $roleRef = ['ProjectRoleIdentity' => ['ProjectRoleUid' => $role->uid]];
        $refused = $call('PwsDeleteProjectRole', $first, $roleRef);
        $check($refused->Status === 'Fail', 'PwsDeleteProjectRole of a role with hours answers Status=Fail');
        $call('PwsDeleteProjectRole', $first, $roleRef + ['ZeroOutHoursFlag' => true]);
        $call('PwsUndeleteProjectRole', $first, $roleRef);

        // The second user locks the engagement; the first user's write gets a PwsFault as a SoapFault,
        // and sends its LockHolders back, as parsed, to steal the lock.
        $locked = $call('PwsAcquireProjectorLocks', $second, ['LockDurationSeconds' => 600,
            'Locks' => ['PwsProjectorLockRequest' => [['EntityIdentity' => ['EntityUid' => $engagement->uid, 'LockType' => 'E']]]]]);
        $setId = $locked->ProjectorLockSetId;
        $lock = $items($locked->Locks, 'PwsProjectorLock')[0] ?? null;
        $check($lock !== null && $lock->EntityIdentity->EntityUid === $engagement->uid
            && $lock->EntityIdentity->EntityCode === $engagement->code,
            'PwsAcquireProjectorLocks: the locked engagement comes back with its exact Uid');
        $call('PwsCheckProjectorLocks', $second, ['ProjectorLockSetId' => $setId]);
        $call('PwsRenewProjectorLocks', $second, ['LockDurationSeconds' => 600, 'ProjectorLockSetId' => $setId]);
        $rename = ['Mode' => 'R', 'Project' => ['ProjectUid' => $project->uid, 'ProjectName' => "Stack phase one $tag"]];
        $fault = $this->expectFault('PwsSaveProject', $first, $rename);
        $check($fault !== null, "PwsSaveProject under another user's lock is a SOAP fault with a PwsFault detail");
        if ($fault !== null) {
            // SoapClient does not read a fault's detail by the WSDL's types: every value in it is
            // its text (a Uid's digits, exact; "true" for a flag).
            $check(($fault->LockHolderUserIdentity->UserUid ?? null) === (string) $second->uid,
                'PwsFault: LockHolderUserIdentity is the second user, Uid exact');
            $holder = $items($fault->LockHolders, 'PwsEntityLockSummary')[0] ?? null;
            $check($holder !== null && $holder->EntityIdentity->EntityUid === (string) $engagement->uid,
                'PwsFault: LockHolders names the engagement by its exact Uid');
            $check($fault->AllowLocksToBeStolenFlag === 'true', 'PwsFault: AllowLocksToBeStolenFlag is true');
            $stolen = $call('PwsSaveProject', $first, $rename + ['LocksToSteal' => $fault->LockHolders]);
            $check(($stolen->LockStolenFromUserIdentity->UserUid ?? null) === $second->uid,
                'LocksToSteal: the save reports the lock stolen from the second user');
        }
        $released = $call('PwsReleaseProjectorLocks', $second, ['ProjectorLockSetId' => $setId]);
        $check(($released->StolenLock->LockStolenByUser->UserUid ?? null) === $first->uid,
            'PwsReleaseProjectorLocks: StolenLock names the first user, Uid exact');

        // An invoice, which then keeps the engagement from being deleted.
        $saved = $call('PwsCreateInvoice', $first, ['InvoiceSpec' => [
            'ClientIdentity' => ['ClientUid' => $child->uid], 'EngagementIdentity' => ['EngagementUid' => $engagement->uid],
            'ProjectIdentity' => ['ProjectUid' => $project->uid], 'CostCenterIdentity' => ['CostCenterName' => 'Head Office'],
            'EngagementCurrencyIdentity' => ['CurrencyCode' => 'USD'], 'BillingCultureIdentity' => ['CultureName' => 'en-US'],
            'InvoiceName' => 'First', 'InvoiceContent' => 'A']]);
        $invoice = $this->made('invoice', $saved->InvoiceIdentity->InvoiceNumber, $saved->InvoiceIdentity->InvoiceUid);
        $got = $call('PwsGetInvoice', $first, ['InvoiceIdentity' => ['InvoiceUid' => $invoice->uid]]);
        $check($got->Invoice->InvoiceIdentity->InvoiceUid === $invoice->uid
            && $got->Invoice->Engagement->EngagementUid === $engagement->uid,
            'PwsGetInvoice: the invoice and engagement Uids are exact');
        $call('PwsDeleteEngagement', $first,
            ['EngagementIdentity' => ['EngagementUid' => $engagement->uid], 'CascadeDeleteFlag' => true]);

        // Deletes, each by Uid: a project, its engagement, a client.
        $saved = $call('PwsSaveEngagement', $first,
            ['Engagement' => ['ClientIdentity' => ['ClientUid' => $parent->uid], 'EngagementName' => "Stack short $tag"]]);
        $shortLived = $saved->EngagementIdentity;
        $saved = $call('PwsSaveProject', $first, ['Mode' => 'R', 'Project' => [
            'EngagementIdentity' => ['EngagementUid' => $shortLived->EngagementUid], 'ProjectName' => 'Stack short project']]);
        $call('PwsDeleteProject', $first, ['ProjectIdentity' => ['ProjectUid' => $saved->ProjectIdentity->ProjectUid]]);
        $call('PwsDeleteEngagement', $first, ['EngagementIdentity' => ['EngagementUid' => $shortLived->EngagementUid]]);
        $saved = $call('PwsSaveClient', $first,
            ['Client' => ['ClientName' => "Stack leaf $tag", 'ParentClientIdentity' => ['ClientUid' => $parent->uid]]]);
        $call('PwsDeleteClient', $first, ['ClientIdentity' => ['ClientUid' => $saved->ClientIdentity->ClientUid]]);

        // Log out; the ticket is dead after.
        $call('PwsUnauthenticate', $second);
        $call('PwsUnauthenticate', $first);
        $call('PwsGetClient', $first, ['ClientIdentities' => ['PwsClientRef' => [['ClientUid' => $child->uid]]]]);
    }

    public function report(?Throwable $error): void
    {
        $called = array_unique(array_column($this->calls, 'operation'));
        echo json_encode([
            'stack' => 'PHP SoapClient (ext-soap) on PHP ' . PHP_VERSION,
            'operations' => $this->operations,
            'uncalled' => array_values(array_diff($this->operations, $called)),
            'calls' => $this->calls,
            'entities' => $this->entities,
            'failures' => $this->failures,
            'error' => $error === null ? null : (string) $error,
        ], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
    }
}

$scenario = new Scenario(json_decode($argv[1], true, flags: JSON_THROW_ON_ERROR));
try {
    $scenario->run();
    $scenario->report(null);
} catch (Throwable $error) {
    $scenario->report($error);
}
